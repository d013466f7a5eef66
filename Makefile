# Two entry points for a fresh Debian machine (run as root):
#   make demo  - install everything, build the sample Android device image and ingest it into ./demo-case
#   make test  - install everything and run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
APT_PACKAGES := libmagic1 sleuthkit e2fsprogs mtools dosfstools fdisk ewf-tools ntfs-3g exfatprogs \
                genisoimage sqlite3 redis-server openssl python3-venv libimage-exiftool-perl libjpeg-turbo-progs \
                libheif-examples chromium gcc python3-dev
SYSTEM_TOOLS := fls mmls ewfacquire ewfverify mke2fs debugfs mkfs.vfat mcopy sfdisk mkntfs ntfscp mkfs.exfat \
                genisoimage sqlite3 redis-server openssl exiftool djpeg heif-enc chromium gcc

.PHONY: demo test sysdeps venv clean

sysdeps:
	@missing=""; for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null 2>&1 || missing="$$missing $$t"; done; \
	if [ ! -e /usr/lib/x86_64-linux-gnu/libmagic.so.1 ] && ! ldconfig -p | grep -q libmagic.so.1; then missing="$$missing libmagic"; fi; \
	$(PYTHON) -c "import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" \
	  || missing="$$missing python3-dev"; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages (missing:$$missing)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

$(BIN)/forensics: setup.cfg setup.py parsers/carving/_cells.c forensics/_md5mb.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,distributed,browse]'
	touch $@

venv: sysdeps $(BIN)/forensics
	@# byte-code caches, as an installed package has them (an editable install has none, and an environment with
	@# PYTHONDONTWRITEBYTECODE=1 would recompile ~100 modules at every command)
	$(BIN)/python -m compileall -q -j0 artifacts cases forensics parsers cli.py benchmarks >/dev/null

demo: venv
	rm -rf demo-case demo-work
	$(BIN)/python -m tests.fixtures.sample_device demo-work
	$(BIN)/forensics case init demo-case
	$(BIN)/forensics ingest demo-case demo-work/android.img --device-id sample-android
	$(BIN)/forensics status demo-case

test: venv
	$(BIN)/python -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) demo-case demo-work *.egg-info
