"""Prints each built function's bootstrap size and its deployment zip size."""
import io
import pathlib
import sys
import zipfile

root = pathlib.Path(sys.argv[1])
rows = []
for bootstrap in sorted(root.glob("*/bootstrap")):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.write(bootstrap, "bootstrap")
    rows.append((bootstrap.parent.name, bootstrap.stat().st_size, len(buf.getvalue())))
if not rows:
    sys.exit(f"no */bootstrap under {root}: did sam build run?")
print(f"{'function':<32} {'bootstrap':>12} {'zipped':>12}")
for name, raw, zipped in rows:
    print(f"{name:<32} {raw / 1e6:>10.2f}MB {zipped / 1e6:>10.2f}MB")
