// The check both sides of the off-thread probe run: the bytes parsed as JSON, then validated
// by ajv against the schema, as `contracts: report` checks a response body.
import Ajv from 'ajv';

/** A function telling whether a body's bytes are JSON that `schema` accepts. */
export function makeCheck(schema) {
  const validate = new Ajv({ strict: false }).compile(schema);
  return (bytes) => validate(JSON.parse(Buffer.from(bytes).toString('utf8')));
}
