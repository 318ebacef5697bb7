// The baseline of bench/parquetValidate.bench.ts, bundled like the CLI and run as a process of
// its own: every row of a Parquet file read with the library alone (hyparquet's
// parquetReadObjects over each row group, its own file reader, hyparquet-compressors).
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

async function main(path: string): Promise<void> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  let rows = 0;
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    rows += (await parquetReadObjects({ file, metadata, compressors, rowStart: start, rowEnd: end })).length;
    start = end;
  }
  console.log(JSON.stringify({ rows }));
}

void main(process.argv[2]!);
