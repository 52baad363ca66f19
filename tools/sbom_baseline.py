"""The Python baseline of the sbom-transformer benchmark, and a measurer.

  sbom_baseline.py convert <sbom.json> <outdir> [runs]
      What the AWS blog's transformation Lambda does: json.load the whole
      SPDX document, build row dicts, pandas DataFrames, pyarrow to_parquet
      (snappy) for sbom/ and cve/. Prints {"seconds": ...}: the best of
      `runs` (default 1) conversions in this process, each timed from opening
      the SBOM to the second Parquet file written (imports excluded, as a
      warm Lambda would have them loaded).

  sbom_baseline.py measure <command...>
      Runs the command; prints {"seconds": wall time, "peak_rss_kib": the
      child's peak resident set}.
"""

import json
import os
import resource
import subprocess
import sys
import time


def convert(path, outdir):
    import pandas as pd  # imported before the clock starts

    started = time.perf_counter()
    with open(path) as f:
        doc = json.load(f)
    image_arn = "arn:aws:ecr:us-east-1:123456789012:repository/bench/sha256:" + "0" * 64
    sha = image_arn.rsplit("/", 1)[1]
    sbom_rows, cve_rows = [], []
    for p in doc.get("packages", []):
        purl = None
        for ref in p.get("externalRefs", []):
            if ref.get("referenceCategory") == "PACKAGE-MANAGER" and ref.get("referenceType") == "purl":
                purl = ref.get("referenceLocator")
        sbom_rows.append({
            "imagearn": image_arn, "accountid": "123456789012", "sha": sha,
            "os": "DEBIAN_12", "package": p.get("name"),
            "packageversion": p.get("versionInfo"), "purl": purl,
            "sourceinfo": p.get("sourceInfo"),
        })
        for ref in p.get("externalRefs", []):
            if ref.get("referenceCategory") == "SECURITY" and ref.get("referenceType") == "vulnerability":
                cve_rows.append({
                    "accountid": "123456789012", "sha": sha, "package": p.get("name"),
                    "packageversion": p.get("versionInfo"), "cve": ref.get("referenceLocator"),
                })
    os.makedirs(f"{outdir}/sbom", exist_ok=True)
    os.makedirs(f"{outdir}/cve", exist_ok=True)
    pd.DataFrame(sbom_rows).to_parquet(f"{outdir}/sbom/out.parquet", compression="snappy")
    pd.DataFrame(cve_rows).drop_duplicates().to_parquet(f"{outdir}/cve/out.parquet", compression="snappy")
    return time.perf_counter() - started


def measure(command):
    started = time.perf_counter()
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode(errors="replace"))
        sys.exit(done.returncode)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_rss_kib": rss, "stdout": done.stdout.decode(errors="replace").strip()}))


if __name__ == "__main__":
    if sys.argv[1] == "convert":
        runs = int(sys.argv[4]) if len(sys.argv) > 4 else 1
        best = min(convert(sys.argv[2], sys.argv[3]) for _ in range(runs))
        print(json.dumps({"seconds": best}))
    elif sys.argv[1] == "measure":
        measure(sys.argv[2:])
    else:
        sys.exit(__doc__)
