/**
 * Prints config issues the way compilers do: `file:line:col  path: message`, the
 * offending line, a caret under the column, and the hint.
 */
import type { ConfigIssue } from '../config/config-error.js';

/** Human-readable report of every issue, one block each. */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  const blocks = issues.map((issue) => {
    const where = issue.line > 0 ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
    const lines = [`${where}  ${issue.path ? `${issue.path}: ` : ''}${issue.message}`];
    if (issue.source !== undefined && issue.line > 0) {
      const gutter = `${issue.line} | `;
      lines.push(`  ${gutter}${issue.source}`);
      lines.push(`  ${' '.repeat(gutter.length + Math.max(0, issue.column - 1))}^`);
    }
    if (issue.hint) lines.push(`  hint: ${issue.hint}`);
    return lines.join('\n');
  });
  const count = issues.length === 1 ? '1 error' : `${issues.length} errors`;
  return `${blocks.join('\n\n')}\n\n${count} in ${issues[0]?.file ?? 'config'}`;
}

/** The `--json` shape: `[{file,line,column,path,message,hint}]`. */
export function issuesAsJson(issues: readonly ConfigIssue[]): string {
  return JSON.stringify(
    issues.map(({ file, line, column, path, message, hint }) => ({
      file,
      line,
      column,
      path,
      message,
      hint: hint ?? null,
    })),
    null,
    2,
  );
}
