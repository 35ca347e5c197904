// Writes FILE.gz beside every text file of the build (level 9), which reach-hub sends to
// browsers that accept gzip. Prints the total of what a first visit downloads.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = process.argv[2] ?? 'dist';
let raw = 0;
let gz = 0;
function walk(d) {
  for (const name of readdirSync(d)) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) {
      walk(p);
    } else if (/\.(js|css|html|svg|json|txt)$/.test(name)) {
      const body = readFileSync(p);
      const packed = gzipSync(body, { level: 9 });
      writeFileSync(`${p}.gz`, packed);
      raw += body.length;
      gz += packed.length;
    }
  }
}
walk(dir);
console.log(`admin center: ${(raw / 1024).toFixed(1)} KiB, ${(gz / 1024).toFixed(1)} KiB gzipped`);
