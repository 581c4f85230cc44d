#!/usr/bin/python3
"""Writes the fuzzers' seed corpora: tests/fuzz/corpus/safetensors and corpus/keras_h5.

Valid files for the harnesses' models (the fixtures' mlp and cnn, tests/fixtures/weights) and
broken ones, one per kind of damage the loaders must refuse. Needs numpy and h5py (Debian's
python3-numpy, python3-h5py: run with /usr/bin/python3). Deterministic: re-running rewrites
the same files (the .h5 bytes depend on the HDF5 release, as in tests/fixtures/weights).
"""
import io
import json
import os
import shutil
import struct
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "weights")
OUT_ST = os.path.join(HERE, "corpus", "safetensors")
OUT_H5 = os.path.join(HERE, "corpus", "keras_h5")


def reference():
    with open(os.path.join(FIXTURES, "reference.json")) as f:
        return {e["file"]: e for e in json.load(f)["fixtures"]}


def safetensors(tensors, header_edit=None, tail=b""):
    """tensors: list of (name, dtype, shape, bytes) in buffer order."""
    header, at, data = {}, 0, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [at, at + len(raw)]}
        at += len(raw)
        data += raw
    if header_edit:
        header_edit(header)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data + tail


def frost_tensors(entry):
    out = []
    for name, values in entry["weights"].items():
        shape = entry["weight_shapes"][name]
        out.append((name, "F32", shape, np.asarray(values, dtype="<f4").tobytes()))
    return out


def write(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    ref = reference()
    for d in (OUT_ST, OUT_H5):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    # safetensors: fixtures, frost-named F32 files of both models, then damage.
    for f in ("mlp_f16.safetensors", "mlp_bf16.safetensors", "torch_mlp.safetensors", "torch_cnn.safetensors"):
        shutil.copy(os.path.join(FIXTURES, f), os.path.join(OUT_ST, f))
    mlp, cnn = frost_tensors(ref["mlp.weights.h5"]), frost_tensors(ref["cnn.weights.h5"])
    good = safetensors(mlp)
    write(OUT_ST, "mlp_f32.safetensors", good)
    write(OUT_ST, "cnn_f32.safetensors", safetensors(cnn))
    write(OUT_ST, "truncated.safetensors", good[: len(good) - 7])
    write(OUT_ST, "huge_header.safetensors", struct.pack("<Q", 1 << 40) + good[8:])
    write(OUT_ST, "bad_json.safetensors", good[:20] + b"[" + good[21:])
    write(OUT_ST, "trailing.safetensors", good + b"\0\0\0\0")

    def dup(h):
        h["dense/bias "] = h["dense/bias"]
    text = safetensors(mlp, dup).replace(b'"dense/bias "', b'"dense/bias" ')
    write(OUT_ST, "duplicate.safetensors", text)

    def overlap(h):
        h["dense/bias"]["data_offsets"][0] -= 4
        h["dense/bias"]["data_offsets"][1] -= 4
    write(OUT_ST, "overlap.safetensors", safetensors(mlp, overlap))

    def int_dtype(h):
        h["dense/bias"]["dtype"] = "I32"
    write(OUT_ST, "int_dtype.safetensors", safetensors(mlp, int_dtype))

    def transposed(h):
        h["dense/kernel"]["shape"] = h["dense/kernel"]["shape"][::-1]
    write(OUT_ST, "transposed.safetensors", safetensors(mlp, transposed))
    write(OUT_ST, "missing.safetensors", safetensors(mlp[:-1]))
    write(OUT_ST, "extra.safetensors", safetensors(mlp + [("extra/kernel", "F32", [1], b"\0\0\0\0")]))
    write(OUT_ST, "metadata.safetensors", safetensors(mlp, lambda h: h.update({"__metadata__": {"format": 3}})))

    # Keras .weights.h5: fixtures, then damaged copies of cnn.weights.h5 made with h5py.
    for f in ("mlp.weights.h5", "mlp_no_attrs.weights.h5", "cnn.weights.h5", "cnn_f64.weights.h5",
              "two_input.weights.h5", "cnn.keras"):
        shutil.copy(os.path.join(FIXTURES, f), os.path.join(OUT_H5, f))
    source = os.path.join(FIXTURES, "cnn.weights.h5")

    def damaged(name, edit):
        path = os.path.join(OUT_H5, name)
        shutil.copy(source, path)
        with h5py.File(path, "r+") as f:
            edit(f)

    def soft(f):
        del f["layers/dense/vars/1"]
        f["layers/dense/vars/1"] = h5py.SoftLink("/layers/conv2d/vars/1")
    damaged("soft_link.weights.h5", soft)

    def external(f):
        del f["layers/conv2d_1"]
        f["layers/conv2d_1"] = h5py.ExternalLink("other.h5", "/x")
    damaged("external_link.weights.h5", external)
    damaged("missing_group.weights.h5", lambda f: f.__delitem__("layers/batch_normalization"))

    def integers(f):
        del f["layers/dense/vars/1"]
        f.create_dataset("layers/dense/vars/1", data=np.arange(3, dtype="<i4"))
    damaged("int_dtype.weights.h5", integers)

    def extra_layer(f):
        f.create_group("layers/dense_9/vars").create_dataset("0", data=np.zeros(2, dtype="<f4"))
    damaged("extra_layer.weights.h5", extra_layer)

    def transposed_kernel(f):
        k = f["layers/dense/vars/0"][()]
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", data=k.T.copy())
    damaged("transposed.weights.h5", transposed_kernel)
    damaged("legacy.weights.h5", lambda f: f.attrs.__setitem__("keras_version", "2.15.0"))
    with open(source, "rb") as f:
        data = f.read()
    write(OUT_H5, "truncated.weights.h5", data[: len(data) // 2])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        info = zipfile.ZipInfo("model.weights.h5", date_time=(2026, 1, 1, 0, 0, 0))
        z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    write(OUT_H5, "deflated.keras", buf.getvalue())


if __name__ == "__main__":
    main()
