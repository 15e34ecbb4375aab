# Tencent compute service: contract, generated code, lint, tests.
# Everything runs from the repository root with the project virtualenv (.venv).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON_BOOTSTRAP ?= python3
VENV := .venv
PY := $(VENV)/bin/python

# Contract and generated code.
PROTO_ROOT := proto
THIRD_PARTY := third_party/googleapis
PROTOS := proto/tencent/compute/v1/compute.proto
# google.rpc is not imported by compute.proto but goes into Envoy's descriptor set, so the transcoder knows
# the rich error detail types (google.rpc.Status, ErrorInfo, BadRequest) the server sends.
DESCRIPTOR_EXTRA := google/rpc/status.proto google/rpc/error_details.proto google/rpc/code.proto
GEN_OUT ?= gen

.PHONY: help venv gen check-gen lint fmt run test bench

help:
	@echo "make venv       create .venv and install the project with its dev tools"
	@echo "make gen        regenerate gen/ from proto/ (Python, gRPC stubs, .pyi, Envoy descriptor gen/compute.pb)"
	@echo "make check-gen  fail if gen/ is stale"
	@echo "make lint       ruff, mypy (everything but gen/), buf lint"
	@echo "make run        emulator + server + envoy on 127.0.0.1 (Ctrl-C stops all)"
	@echo "make test       the whole test suite"
	@echo "make bench      benchmarks (bench/), figures in bench/results/latest.md"

# The virtualenv. `make venv` (re)installs when pyproject.toml changes (stamp file). A .pth file puts gen/
# on sys.path, so `import tencent.compute.v1.compute_pb2` works for the server, the tests and any script run
# with .venv/bin/python (google.api / google.rpc Python modules come from the googleapis-common-protos
# wheel, not from gen/).
VENV_STAMP := $(VENV)/.installed

$(PY):
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)

$(VENV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	$(PY) -c 'import pathlib, sysconfig; \
	  pth = pathlib.Path(sysconfig.get_paths()["purelib"]) / "tencent-compute-gen.pth"; \
	  pth.write_text(str(pathlib.Path("gen").resolve()) + "\n")'
	touch $@

venv: $(VENV_STAMP)

# Generated code, committed. Output is deterministic (pinned grpcio-tools and mypy-protobuf, fixed inputs),
# so check-gen can diff it byte for byte.
#   gen/tencent/compute/v1/compute_pb2.py, compute_pb2_grpc.py   messages and gRPC stubs
#   gen/tencent/compute/v1/compute_pb2.pyi, compute_pb2_grpc.pyi type stubs (mypy-protobuf)
#   gen/compute.pb   FileDescriptorSet for Envoy's grpc_json_transcoder (imports and source info included)
gen: | $(PY)
	rm -rf $(GEN_OUT)/tencent $(GEN_OUT)/compute.pb
	mkdir -p $(GEN_OUT)
	$(PY) -m grpc_tools.protoc -I $(PROTO_ROOT) -I $(THIRD_PARTY) \
	  --plugin=protoc-gen-mypy=$(VENV)/bin/protoc-gen-mypy \
	  --plugin=protoc-gen-mypy_grpc=$(VENV)/bin/protoc-gen-mypy_grpc \
	  --python_out=$(GEN_OUT) --grpc_python_out=$(GEN_OUT) \
	  --mypy_out=$(GEN_OUT) --mypy_grpc_out=$(GEN_OUT) \
	  $(PROTOS)
	$(PY) -m grpc_tools.protoc -I $(PROTO_ROOT) -I $(THIRD_PARTY) \
	  --include_imports --include_source_info --descriptor_set_out=$(GEN_OUT)/compute.pb \
	  $(PROTOS) $(DESCRIPTOR_EXTRA)
	for d in $(GEN_OUT)/tencent $(GEN_OUT)/tencent/compute $(GEN_OUT)/tencent/compute/v1; do \
	  touch $$d/__init__.py; \
	done

check-gen:
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MAKE) --no-print-directory gen GEN_OUT=$$tmp >/dev/null; \
	if diff -r --exclude=__pycache__ --exclude=.gitkeep $$tmp $(GEN_OUT); then \
	  echo "gen/ is up to date"; \
	else \
	  echo "gen/ is stale: run 'make gen' and commit the result" >&2; exit 1; \
	fi

lint: | $(PY)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy server emulator bench tests tools
	$(VENV)/bin/buf lint

fmt:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The whole system on the built-in emulator: emulator 127.0.0.1:9000, server 127.0.0.1:50051, Envoy
# 127.0.0.1:8080 (admin 9901), started from the repository root (envoy.yaml loads gen/compute.pb by a path
# relative to the working directory). Ctrl-C stops all three.
run: $(VENV_STAMP) $(GEN_OUT)/compute.pb
	$(PY) tools/run_stack.py

# Regenerate only when a proto is newer than the committed output.
$(GEN_OUT)/compute.pb: $(PROTOS)
	$(MAKE) --no-print-directory gen

test: $(VENV_STAMP) check-gen lint
	$(VENV)/bin/pytest

# Benchmarks (not tests): emulator with 30 ms per call and Tencent's rate limits, server and Envoy side by
# side; prints a table and writes bench/results/latest.md. BENCH_ARGS=--quick for a smaller run.
bench: $(VENV_STAMP)
	$(PY) -m bench $(BENCH_ARGS)
