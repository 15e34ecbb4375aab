"""gen/ is exactly what `make gen` produces from proto/ now (the `make check-gen` check), and it imports."""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

from google.protobuf import descriptor_pb2

REPO_ROOT = Path(__file__).resolve().parents[2]
GEN = REPO_ROOT / "gen"
PYTHON = REPO_ROOT / ".venv" / "bin" / "python"


def _files(root: Path) -> set[str]:
    return {
        str(path.relative_to(root))
        for path in root.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.name != ".gitkeep"
    }


def test_gen_matches_a_fresh_generation(tmp_path: Path) -> None:
    subprocess.run(
        ["make", "--no-print-directory", "gen", f"GEN_OUT={tmp_path}"],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    fresh, committed = _files(tmp_path), _files(GEN)
    assert fresh == committed, "gen/ has missing or extra files: run `make gen`"
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, GEN, sorted(fresh), shallow=False)
    assert not mismatch and not errors, f"stale generated files {mismatch + errors}: run `make gen`"


def test_descriptor_set_has_what_envoy_needs() -> None:
    descriptors = descriptor_pb2.FileDescriptorSet.FromString((GEN / "compute.pb").read_bytes())
    names = {file.name for file in descriptors.file}
    assert {
        "tencent/compute/v1/compute.proto",
        "google/api/annotations.proto",
        "google/api/http.proto",
        "google/protobuf/struct.proto",
        "google/rpc/status.proto",
        "google/rpc/error_details.proto",
        "google/rpc/code.proto",
    } <= names
    compute = next(file for file in descriptors.file if file.name == "tencent/compute/v1/compute.proto")
    assert compute.source_code_info.location, "descriptor set lacks --include_source_info"


def test_generated_modules_import_from_anywhere() -> None:
    """The venv's .pth (make venv) puts gen/ on sys.path: no PYTHONPATH, any working directory."""
    code = (
        "import tencent.compute.v1.compute_pb2 as pb, tencent.compute.v1.compute_pb2_grpc as stubs;"
        "print(pb.ListResponse.DESCRIPTOR.full_name, stubs.ComputeServiceStub.__name__)"
    )
    result = subprocess.run([str(PYTHON), "-c", code], cwd="/", capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["tencent.compute.v1.ListResponse", "ComputeServiceStub"]
