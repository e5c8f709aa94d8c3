#!/usr/bin/env node
// A JavaScript port of two churn features, checked against featurekit's golden vectors.
//
//   featurekit golden model/features --out vectors.jsonl
//   node examples/golden_js/churn_port.js vectors.jsonl [--simulate-bug]
//
// The features (specs/churn.yaml):
//   tickets_per_tenure_month: if_else(tenure_days > 0, num_support_tickets / (tenure_days / 30.0), 0.0)
//   desc_char_len:            coalesce(length(description), 0)
// with the input contract they depend on: tenure_days and num_support_tickets are required ints
// (int64; an integral float up to 2**53 is accepted), description is nullable text (valid Unicode).
//
// Every vector of the file is checked: a vector with outputs must give the same two outputs
// bit for bit (Object.is: NaN equals NaN, -0 is not 0); a vector featurekit refused because of
// one of these three inputs must be refused here too; a vector refused because of another input
// is not applicable to this port. --simulate-bug computes tickets * 30 / tenure instead: the same
// number on paper, not always the same double. Exit codes: 0 all equal, 1 mismatches, 2 bad usage.
// The file format is docs/golden.md; no npm packages are needed (Node >= 20).
'use strict';

const fs = require('fs');

const INPUTS = ['tenure_days', 'num_support_tickets', 'description'];
const COLUMNS = ['tickets_per_tenure_month', 'desc_char_len'];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const EXACT_FLOAT_INT = 2 ** 53;

class Refused extends Error {
  constructor(input, rule) {
    super(`input '${input}' violates ${rule}`);
    this.input = input;
  }
}

// A portable value as JavaScript: tagged floats -> numbers, tagged ints -> BigInt.
function decode(value) {
  if (value !== null && typeof value === 'object') {
    if ('$float' in value) return { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0.0': -0 }[value.$float];
    if ('$int' in value) return BigInt(value.$int);
  }
  return value; // null, boolean, number, string, or another tagged object ($datetime, $bytes)
}

const isMissing = (row, name) => !(name in row) || row[name] === null || Number.isNaN(decode(row[name]));

// tenure_days / num_support_tickets: {type: int, nullable: false}
function readInt(row, name) {
  if (isMissing(row, name)) throw new Refused(name, 'nullable: false');
  const v = decode(row[name]);
  if (typeof v === 'bigint') {
    if (v < INT64_MIN || v > INT64_MAX) throw new Refused(name, 'type int');
    return Number(v); // rounds to the nearest double, ties to even: Python's float(int)
  }
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= EXACT_FLOAT_INT) return v + 0; // -0 -> 0
  throw new Refused(name, 'type int'); // bool, text, 2.5, inf, 1e300, a timestamp ...
}

// description: {type: str} (nullable)
function readText(row, name) {
  if (isMissing(row, name)) return null;
  const v = row[name];
  if (typeof v !== 'string' || !v.isWellFormed()) throw new Refused(name, 'type str');
  return v;
}

function features(row, bug) {
  const tenure = readInt(row, 'tenure_days');
  const tickets = readInt(row, 'num_support_tickets');
  const description = readText(row, 'description');
  let perMonth = 0.0;
  if (tenure > 0) {
    const months = tenure / 30.0;
    perMonth = bug ? (tickets * 30.0) / tenure : months === 0 ? NaN : tickets / months;
  }
  return {
    tickets_per_tenure_month: perMonth,
    desc_char_len: description === null ? 0 : [...description].length, // code points, like Python's len
  };
}

function show(x) {
  if (typeof x !== 'number') return JSON.stringify(x);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return `${Object.is(x, -0) ? '-0.0' : x} (bits 0x${view.getBigUint64(0).toString(16).padStart(16, '0')})`;
}

function main(argv) {
  const args = argv.filter((a) => !a.startsWith('--'));
  const bug = argv.includes('--simulate-bug');
  if (args.length !== 1) {
    console.error('usage: node churn_port.js VECTORS.jsonl [--simulate-bug]');
    return 2;
  }
  const lines = fs.readFileSync(args[0], 'utf8').split('\n').filter((l) => l.length);
  const header = JSON.parse(lines[0]);
  if (header.kind !== 'header' || header.format !== 'featurekit-golden-vectors' || header.format_version !== 1
      || header.name !== 'churn_features' || !COLUMNS.every((c) => c in header.outputs)) {
    console.error(`${args[0]}: not golden vectors of churn_features (format 1) with ${COLUMNS.join(', ')}`);
    return 2;
  }
  const counts = { equal: 0, refused: 0, other: 0 };
  const problems = [];
  for (const line of lines.slice(1)) {
    const v = JSON.parse(line);
    let got;
    let refusal = null;
    try {
      got = features(v.input, bug);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      refusal = err;
    }
    if (v.error) {
      if (!INPUTS.includes(v.error.input)) counts.other += 1; // refused for an input this port does not read
      else if (refusal && refusal.input === v.error.input) counts.refused += 1;
      else problems.push(`vector ${v.id} (${v.source}): featurekit refused input '${v.error.input}' `
                         + `(${v.error.type}); the port ${refusal ? `refused '${refusal.input}'` : 'accepted it'}`);
      continue;
    }
    if (refusal) {
      problems.push(`vector ${v.id} (${v.source}): the port refused it (${refusal.message}); featurekit did not`);
      continue;
    }
    let same = true;
    for (const column of COLUMNS) {
      const expected = decode(v.output[column]);
      if (!Object.is(expected, got[column])) {
        same = false;
        problems.push(`vector ${v.id} (${v.source}) column ${column}: expected ${show(expected)}, `
                      + `port gave ${show(got[column])}`);
      }
    }
    if (same) counts.equal += 1;
  }
  const total = lines.length - 1;
  console.log(`${args[0]}: ${total} vectors: ${counts.equal} outputs equal bit for bit, ${counts.refused} refusals `
              + `matched, ${counts.other} refused for other inputs (not applicable), ${problems.length} problem(s)`);
  for (const p of problems.slice(0, 10)) console.log(`  ${p}`);
  if (problems.length > 10) console.log(`  ... and ${problems.length - 10} more`);
  return problems.length ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
