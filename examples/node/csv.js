'use strict'
// Reads a CSV file with a header row into plain objects (every value as text, empty cells
// left out), enough for the bundled sample: quoted cells as RFC 4180 writes them, one record
// per line.
const fs = require('node:fs')

/** The rows of a CSV file as objects keyed by the header's column names. */
function readCsv(file) {
  const [header, ...lines] = fs.readFileSync(file, 'utf8').trim().split(/\r?\n/)
  const columns = parseLine(header)
  return lines.map((line) => {
    const cells = parseLine(line)
    const row = {}
    columns.forEach((column, i) => {
      if (cells[i] !== undefined && cells[i] !== '') row[column] = cells[i]
    })
    return row
  })
}

/** The cells of one CSV line. */
function parseLine(line) {
  const cells = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',') {
      cells.push(cell)
      cell = ''
    } else cell += c
  }
  cells.push(cell)
  return cells
}

module.exports = { readCsv }
