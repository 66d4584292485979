#!/bin/bash
cd /tmp/wt_pair
export PYTHONPATH=/tmp/wt_pair MPLBACKEND=Agg PYTHONUNBUFFERED=1
PY=/work/main/.venv/bin/python
mkdir -p /tmp/pair_out
date; /usr/bin/time -v $PY -m digitseq.pipeline --no-ship --config amp=off > /tmp/pair_out/fp32.log 2>&1
cp results/pipeline_times.json /tmp/pair_out/fp32_times.json; cp results/crnn_eval.json /tmp/pair_out/fp32_eval.json
date; /usr/bin/time -v $PY -m digitseq.pipeline --no-ship --start 3 --config amp=bf16 > /tmp/pair_out/bf16.log 2>&1
cp results/pipeline_times.json /tmp/pair_out/bf16_times.json; cp results/crnn_eval.json /tmp/pair_out/bf16_eval.json
date
