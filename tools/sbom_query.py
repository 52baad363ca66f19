"""Reads sbom-transformer output with independent implementations.

usage: sbom_query.py <dir>   (holding sbom/**/*.parquet and cve/**/*.parquet)

Prints one JSON object: the Parquet schemas as pyarrow reads them
(name, type, compression), the row counts, and the rows of the AWS blog's
Athena query, run unchanged by DuckDB over views named sbom and cve.
"""

import glob
import json
import sys

import duckdb
import pyarrow.parquet as pq

BLOG_QUERY = (
    "select package, packageversion, cve, sha, imagearn from sbom "
    "left join cve using (sha, package, packageversion) where cve is not null"
)


def schema(files):
    if not files:
        return None
    meta = pq.ParquetFile(files[0])
    fields = [[f.name, str(f.type)] for f in meta.schema_arrow]
    codecs = sorted(
        {meta.metadata.row_group(g).column(c).compression
         for g in range(meta.metadata.num_row_groups)
         for c in range(meta.metadata.num_columns)}
    )
    return {"fields": fields, "compression": codecs}


def main(root):
    out = {"schema": {}, "rows": {}}
    con = duckdb.connect()
    for table in ("sbom", "cve"):
        files = sorted(glob.glob(f"{root}/{table}/**/*.parquet", recursive=True))
        out["schema"][table] = schema(files)
        out["rows"][table] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        con.execute(f"create view {table} as select * from read_parquet({files!r})")
    rows = con.execute(BLOG_QUERY + " order by 5, 1, 2, 3").fetchall()
    out["join"] = [list(r) for r in rows]
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
