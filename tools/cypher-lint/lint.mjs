// Lint graphinv's playbooks with Neo4j's own Cypher tooling (@neo4j-cypher/language-support).
// Reads {"schema": {labels, relationshipTypes, propertyKeys, graphSchema}, "queries": [{name,
// query, parameters}]} as JSON on standard input; writes one JSON array of
// {name, severity, message, line, column} on standard output (empty: all clean).
import { lintCypherQuery } from '@neo4j-cypher/language-support';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
const severity = { 1: 'error', 2: 'warning', 3: 'information', 4: 'hint' };
const found = [];
for (const item of input.queries) {
  const schema = { ...input.schema, parameters: item.parameters };
  const { diagnostics } = lintCypherQuery(item.query, schema);
  for (const d of diagnostics) {
    found.push({
      name: item.name,
      severity: severity[d.severity] ?? String(d.severity),
      message: d.message,
      line: (d.range?.start?.line ?? 0) + 1,
      column: (d.range?.start?.character ?? 0) + 1,
    });
  }
}
process.stdout.write(JSON.stringify(found));
