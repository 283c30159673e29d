/** A file path as short as it can be shown: relative to the working directory when inside it. */
import path from 'node:path';

export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
