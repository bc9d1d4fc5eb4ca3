/**
 * Loaded by mocha before every run (.mocharc.json). restify's spdy dependency warns about a
 * deprecated Node API on load; that warning is noise in test output, not a finding.
 */
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if ((warning as NodeJS.ErrnoException).code !== 'DEP0111') console.warn(warning);
});
