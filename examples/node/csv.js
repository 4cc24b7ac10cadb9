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

/** The cells of one CSV line. Unquoted cells are slices of the line (flat strings, as a JSON
 * body or a database driver gives them), not built a character at a time. */
function parseLine(line) {
  const cells = []
  let i = 0
  for (;;) {
    if (line[i] === '"') {
      let cell = ''
      let from = i + 1
      for (i = from; i < line.length; i++) {
        if (line[i] !== '"') continue
        cell += line.slice(from, i)
        if (line[i + 1] === '"') {
          cell += '"'
          from = ++i + 1
        } else break
      }
      if (i >= line.length) cell += line.slice(from)
      cells.push(cell)
      i++ // past the closing quote, onto the comma
    } else {
      const comma = line.indexOf(',', i)
      const end = comma === -1 ? line.length : comma
      cells.push(line.slice(i, end))
      i = end
    }
    if (line[i] !== ',') return cells
    i++
  }
}

module.exports = { readCsv }
