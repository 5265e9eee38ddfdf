// How the profile scripts name a V8 call frame: `where` is its package (node_modules) or its path from src/,
// emulator/, bench/ or test/ (a native frame: its function in parentheses); `name` is its function at that place.
export function frameLabels(callFrame) {
  const url = callFrame.url.replace(/^file:\/\//, '');
  const where = url.includes('node_modules/')
    ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')
    : url.replace(/.*\/(src|emulator|bench|test)\//, '$1/') || `(${callFrame.functionName || 'native'})`;
  const name = `${callFrame.functionName || '(anonymous)'} ${where}${url ? `:${callFrame.lineNumber + 1}` : ''}`;
  return { where, name };
}
