// Package lineprotocol parses and encodes InfluxDB line protocol, the body
// of POST /write, and decodes the legacy 0.9 JSON write body.
//
// # Parsing
//
// Parser.Parse is the write hot path. It parses a whole body in place: names
// and string values are unescaped inside the body (unescaped text is never
// longer than escaped), and the returned points are views into it, valid
// until the body or the Parser is reused. The Parser keeps its points, tags
// and fields in arenas that it reuses, so a warm Parser allocates nothing
// for a body of valid lines (errors allocate). Points come back with tags
// sorted by key and each field key once.
//
// The grammar is 1.x's:
//
//	measurement[,tagkey=tagvalue...] fieldkey=value[,fieldkey=value...] [timestamp]
//
// In detail:
//
//   - Lines end at '\n'; a '\r' before it is dropped. A string value may
//     hold newlines; nothing else may. Lines that are empty or hold only
//     spaces, tabs and NULs, and lines whose first non-blank byte is '#',
//     are skipped. Spaces, tabs and NULs are also skipped before a line,
//     before the field set and before the timestamp; the separators
//     themselves are spaces.
//   - A backslash escapes ',' and ' ' in a measurement; ',', '=' and ' ' in
//     tag keys, tag values and field keys; '"' and '\' in string values.
//     Before any other byte it is literal, and the byte after it is read on
//     its own (so `a\\,b` is a literal backslash then an escaped comma).
//     Quotes in names are part of the name.
//   - Values: floats (1, -1.5, .5, 1., 1e+78), integers (1i), unsigned
//     integers (1u), strings ("…"), booleans (t T true True TRUE f F false
//     False FALSE). NaN, ±Inf and a leading '+' are invalid numbers.
//   - The timestamp is an integer in the request's precision, scaled to
//     nanoseconds; it must fall in [models.MinNanoTime, models.MaxNanoTime].
//     Points without one take the time passed to Parse, truncated to the
//     precision.
//   - A repeated field key keeps the last value. A "time" field is dropped;
//     a line whose only field is "time" is rejected.
//
// # Errors
//
// Each invalid line yields a LineError with its 1-based line number, its
// text and a reason. Syntax errors use 1.x's texts and print as 1.x does:
// "unable to parse '<line>': <reason>". Lines that are well formed but whose
// point 1.x drops when writing it (tsdb/shard.go: a "time" tag key, a
// "time"-only field set) are rejections: their reason matches ErrRejected
// and prints alone, as 1.x's partial-write reason. The HTTP layer composes
// the 1.x response ("partial write: … dropped=N") from these. An
// out-of-range timestamp gets 1.x's fixed text, which names the nanosecond
// range whatever the precision (influxdb#13118).
//
// # Deliberate differences from InfluxDB 1.x
//
//   - CRLF line endings are accepted; 1.x leaves the '\r' in the line and
//     fails it. Error texts never include the '\r'.
//   - Unsigned integers (1u) are always accepted; 1.x needs a build tag.
//   - NaN and ±Inf in any spelling strconv knows, and a leading '+', are
//     "invalid number"; 1.x says "invalid boolean" for those that start
//     with '+', 'I' or 'i'.
//   - String values are bounded by Parser.MaxStringLen (64 KiB, the limit
//     the 1.x docs give); a longer one rejects the point with 1.x's
//     field-size text ("input field "s" on measurement "m" is too long,
//     N > 65536"). 1.x's code only drops values over 1 MiB.
//   - "_field" and "_measurement" as a tag or field key reject the point,
//     as the 1.x docs say ("the associated point is discarded"); 1.x's code
//     does not check them. The reason uses the wording of the "time" key
//     rejections.
//   - A measurement unescapes only `\,` and `\ `, so equal measurements
//     always have equal series keys; 1.x's Name() also unescapes `\=` and
//     `\"` while its series key keeps the text as sent.
//   - Anything but a separator after a string's closing quote is "invalid
//     field format"; 1.x accepts it and mangles the value.
//   - An unterminated string fails its line, and parsing resumes at the
//     line after the one the string opened on; in 1.x the rest of the body
//     becomes one failed line. A backslash never continues a line.
//   - The key-length limit measures the canonical series key plus the field
//     key (the key storage uses); 1.x measures the key as sent plus four
//     bytes of its TSM separator. Lines within a few bytes of 65535 may
//     differ.
//   - A point whose first field key, once a "time" field or a repeated
//     key is dropped, starts with a tab or a NUL is rejected
//     (ErrLeadingBlankKey): blanks before the field set are skipped, so no
//     line protocol text reads back to it and a subscriber could not be
//     sent it. 1.x stores it.
//   - ParsePrecision also accepts "us", "µ" and "μ" for microseconds.
//   - Parser.MaxErrors can bound the errors kept per call; 1.x keeps every
//     failed line.
//
// # Deliberate differences from line-protocol/v2
//
// github.com/influxdata/line-protocol/v2 is the test oracle (diff_test.go
// compares the two line by line and allows exactly these differences, by
// these names):
//
//   - "reserved keys": "time", "_field" and "_measurement" tag keys, and a
//     "time"-only field set, are rejected; v2 accepts any key.
//   - "time field": a "time" field beside others is dropped; v2 keeps it.
//   - "duplicate tags": a repeated tag key is an error; v2 returns both.
//     (A repeated field key keeps the last value; the test reads v2's
//     fields the same way.)
//   - "time range": timestamps outside [MinNanoTime, MaxNanoTime] are
//     errors; v2 accepts any int64.
//   - "string bound" and "key length": the 64 KiB string bound and the
//     65535-byte key limit; v2 has neither.
//   - "number syntax": numbers follow 1.x's grammar, not strconv's; v2
//     passes floats to strconv.ParseFloat, which also takes hex floats
//     (0x1p-2) and underscores (1_000).
//   - "utf-8": invalid UTF-8 is accepted, as by 1.x; v2 rejects it.
//   - "control bytes": ASCII control bytes and DEL in names and tag values,
//     and tabs and NULs as blanks, are accepted, as by 1.x; v2 rejects them
//     outside string values.
//   - "blanks": lines of tabs and NULs, or tabs and NULs before a '#', are
//     skipped; v2 rejects them.
//   - "string escapes": `\n`, `\r` and `\t` in a string value stay two
//     bytes, as in 1.x; v2 turns them into control characters.
//
// Tags come back sorted by key, where v2 returns them as sent; the test
// sorts v2's before comparing.
//
// # Encoding
//
// AppendPoint writes a point back as canonical line protocol with a
// nanosecond timestamp; Parse reads it back to the same point (FuzzParse
// checks parse → encode → parse).
//
// # The 0.9 JSON body
//
// ParseJSONBatch decodes {"database", "retentionPolicy", "precision", "tags",
// "time", "points": [{"measurement", "tags", "time", "precision",
// "fields"}]}. It differs from 0.9 in that an integer time uses the point's
// precision, else the batch's, else seconds (0.9 ignored the batch's);
// precisions are those of ParsePrecision; the line-protocol key rules and
// bounds apply; names holding a newline or ending in a backslash, and
// measurements starting with '#', a tab or a NUL, which line protocol and
// series keys cannot express (a subscriber could not be sent them), are
// errors; and data after the top-level object is an error. FuzzParseJSONBatch
// checks that every accepted point survives AppendPoint → Parse.
package lineprotocol
