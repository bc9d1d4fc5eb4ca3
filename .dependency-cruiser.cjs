/** Layering rules (STYLE.md §2): dependencies point inward. `npm run deps:validate` fails on any violation. */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment:
        'src/domain imports only itself (and plain libraries: zod, canonicalize, luxon for time-zone maths), never other layers or Node I/O.',
      severity: 'error',
      from: { path: '^src/domain' },
      to: { pathNot: '^src/domain|node_modules/(zod|canonicalize|luxon)/', dependencyTypesNot: ['core'] },
    },
    {
      name: 'domain-core-modules',
      comment: 'Only node:crypto is allowed in the domain (hashing for the audit chain).',
      severity: 'error',
      from: { path: '^src/domain' },
      to: { dependencyTypes: ['core'], pathNot: '^(node:)?crypto$' },
    },
    {
      name: 'application-no-adapters-or-surfaces',
      severity: 'error',
      from: { path: '^src/application' },
      to: { path: '^src/(adapters|surfaces|sandbox|cli|main|config)' },
    },
    {
      name: 'application-no-sdks',
      severity: 'error',
      from: { path: '^src/application' },
      to: { path: 'node_modules/(@azure|@microsoft|botbuilder|restify|adaptivecards)' },
    },
    {
      name: 'adapters-not-surfaces',
      severity: 'error',
      from: { path: '^src/adapters' },
      to: { path: '^src/(surfaces|main|cli)' },
    },
    {
      name: 'surfaces-not-adapters',
      comment: 'Surfaces talk to use cases; the composition root wires adapters in.',
      severity: 'error',
      from: { path: '^src/surfaces' },
      to: { path: '^src/(adapters|main|cli)' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
