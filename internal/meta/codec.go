package meta

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"slices"
	"strconv"
	"time"
)

// The meta.db file (docs/format/meta.md):
//
//	header   magic "STRATAMD" | format u32 LE | payload length u32 LE | Version u64 LE
//	payload  the Data, varint-encoded (see encodePayload)
//	trailer  CRC-32C (Castagnoli) of header and payload, u32 LE
const (
	fileMagic     = "STRATAMD"
	formatVersion = 1
	headerSize    = 8 + 4 + 4 + 8
	trailerSize   = 4
)

// Shard-group flag bits in the payload.
const (
	sgDeleted   = 1 << 0
	sgTruncated = 1 << 1
	sgKnown     = sgDeleted | sgTruncated
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes d in the meta.db format.
func (d *Data) MarshalBinary() ([]byte, error) {
	return encodeFile(encodePayload(d), d.Version), nil
}

// UnmarshalBinary decodes the meta.db format into d. Bad input gives a
// *CorruptError (errors.Is ErrCorrupt), never a panic.
func (d *Data) UnmarshalBinary(b []byte) error {
	nd, err := decodeFile(b)
	if err != nil {
		return err
	}
	*d = *nd
	return nil
}

func encodeFile(payload []byte, version uint64) []byte {
	b := make([]byte, 0, headerSize+len(payload)+trailerSize)
	b = append(b, fileMagic...)
	b = binary.LittleEndian.AppendUint32(b, formatVersion)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = binary.LittleEndian.AppendUint64(b, version)
	b = append(b, payload...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// encodePayload encodes everything but Version. The encoding is canonical
// (privileges are sorted by database), so equal Data give equal bytes: the
// Store relies on that to skip writing a change that changed nothing.
func encodePayload(d *Data) []byte {
	var e encoder
	e.uvarint(d.MaxShardGroupID)
	e.uvarint(d.MaxShardID)
	e.uvarint(uint64(len(d.Databases)))
	for i := range d.Databases {
		di := &d.Databases[i]
		e.str(di.Name)
		e.str(di.DefaultRetentionPolicy)
		e.uvarint(uint64(len(di.RetentionPolicies)))
		for j := range di.RetentionPolicies {
			e.policy(&di.RetentionPolicies[j])
		}
		e.uvarint(uint64(len(di.ContinuousQueries)))
		for _, cq := range di.ContinuousQueries {
			e.str(cq.Name)
			e.str(cq.Query)
		}
	}
	e.uvarint(uint64(len(d.Users)))
	for i := range d.Users {
		u := &d.Users[i]
		e.str(u.Name)
		e.str(u.Hash)
		e.bool(u.Admin)
		dbs := make([]string, 0, len(u.Privileges))
		for db := range u.Privileges {
			dbs = append(dbs, db)
		}
		slices.Sort(dbs)
		e.uvarint(uint64(len(dbs)))
		for _, db := range dbs {
			e.str(db)
			e.uvarint(uint64(u.Privileges[db]))
		}
	}
	return e.b
}

type encoder struct{ b []byte }

func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) time(t time.Time) { e.varint(t.UnixNano()) }

func (e *encoder) bool(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) policy(rp *RetentionPolicyInfo) {
	e.str(rp.Name)
	e.uvarint(uint64(rp.ReplicaN))
	e.varint(int64(rp.Duration))
	e.varint(int64(rp.ShardGroupDuration))
	e.varint(int64(rp.FutureWriteLimit))
	e.varint(int64(rp.PastWriteLimit))
	e.uvarint(uint64(len(rp.ShardGroups)))
	for i := range rp.ShardGroups {
		g := &rp.ShardGroups[i]
		e.uvarint(g.ID)
		e.time(g.StartTime)
		e.time(g.EndTime)
		var flags byte
		if g.Deleted() {
			flags |= sgDeleted
		}
		if g.Truncated() {
			flags |= sgTruncated
		}
		e.b = append(e.b, flags)
		if g.Deleted() {
			e.time(g.DeletedAt)
		}
		if g.Truncated() {
			e.time(g.TruncatedAt)
		}
		e.uvarint(uint64(len(g.Shards)))
		for _, sh := range g.Shards {
			e.uvarint(sh.ID)
			e.uvarint(uint64(len(sh.Owners)))
			for _, o := range sh.Owners {
				e.uvarint(o)
			}
		}
	}
	e.uvarint(uint64(len(rp.Subscriptions)))
	for _, s := range rp.Subscriptions {
		e.str(s.Name)
		e.str(s.Mode)
		e.uvarint(uint64(len(s.Destinations)))
		for _, dst := range s.Destinations {
			e.str(dst)
		}
	}
}

// decodeFile checks the envelope and decodes the payload.
func decodeFile(b []byte) (*Data, error) {
	if len(b) < headerSize+trailerSize {
		return nil, &CorruptError{Offset: 0, Reason: "file shorter than header and checksum"}
	}
	if string(b[:8]) != fileMagic {
		return nil, &CorruptError{Offset: 0, Reason: "bad magic"}
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != formatVersion {
		return nil, &CorruptError{Offset: 8, Reason: "unknown format version " + itoa(uint64(v))}
	}
	n := uint64(binary.LittleEndian.Uint32(b[12:]))
	if n != uint64(len(b)-headerSize-trailerSize) {
		return nil, &CorruptError{Offset: 12, Reason: "payload length " + itoa(n) + " does not match file size " + itoa(uint64(len(b)))}
	}
	end := len(b) - trailerSize
	if want, got := binary.LittleEndian.Uint32(b[end:]), crc32.Checksum(b[:end], castagnoli); want != got {
		return nil, &CorruptError{Offset: end, Reason: "checksum mismatch"}
	}
	d, err := decodePayload(b[headerSize:end], headerSize)
	if err != nil {
		return nil, err
	}
	d.Version = binary.LittleEndian.Uint64(b[16:])
	return d, nil
}

// decodePayload decodes what encodePayload wrote; base is the payload's
// offset in the file, for error messages.
func decodePayload(p []byte, base int) (*Data, error) {
	dec := decoder{b: p, base: base}
	d := &Data{}
	d.MaxShardGroupID = dec.uvarint()
	d.MaxShardID = dec.uvarint()
	if n := dec.count(); n > 0 {
		d.Databases = make([]DatabaseInfo, n)
		for i := range d.Databases {
			di := &d.Databases[i]
			di.Name = dec.str()
			di.DefaultRetentionPolicy = dec.str()
			if n := dec.count(); n > 0 {
				di.RetentionPolicies = make([]RetentionPolicyInfo, n)
				for j := range di.RetentionPolicies {
					dec.policy(&di.RetentionPolicies[j])
				}
			}
			if n := dec.count(); n > 0 {
				di.ContinuousQueries = make([]ContinuousQueryInfo, n)
				for j := range di.ContinuousQueries {
					di.ContinuousQueries[j] = ContinuousQueryInfo{Name: dec.str(), Query: dec.str()}
				}
			}
		}
	}
	if n := dec.count(); n > 0 {
		d.Users = make([]UserInfo, n)
		for i := range d.Users {
			u := &d.Users[i]
			u.Name = dec.str()
			u.Hash = dec.str()
			u.Admin = dec.bool()
			if n := dec.count(); n > 0 {
				u.Privileges = make(map[string]Privilege, n)
				for range n {
					db := dec.str()
					p := Privilege(dec.small(uint64(AllPrivileges), "privilege"))
					u.Privileges[db] = p
				}
			}
		}
	}
	// Lookups binary-search the groups: restore their order whatever the
	// file says.
	for i := range d.Databases {
		for j := range d.Databases[i].RetentionPolicies {
			sortShardGroups(d.Databases[i].RetentionPolicies[j].ShardGroups)
		}
	}
	if dec.err == nil && dec.off != len(dec.b) {
		dec.fail("trailing bytes after payload")
	}
	if dec.err != nil {
		return nil, dec.err
	}
	return d, nil
}

// decoder reads the payload; the first error sticks and every later read
// returns zero values, so callers check once at the end.
type decoder struct {
	b    []byte
	off  int
	base int
	err  *CorruptError
}

func (dec *decoder) fail(reason string) {
	if dec.err == nil {
		dec.err = &CorruptError{Offset: dec.base + dec.off, Reason: reason}
	}
}

func (dec *decoder) uvarint() uint64 {
	if dec.err != nil {
		return 0
	}
	v, n := binary.Uvarint(dec.b[dec.off:])
	if n <= 0 {
		dec.fail("bad uvarint")
		return 0
	}
	dec.off += n
	return v
}

func (dec *decoder) varint() int64 {
	if dec.err != nil {
		return 0
	}
	v, n := binary.Varint(dec.b[dec.off:])
	if n <= 0 {
		dec.fail("bad varint")
		return 0
	}
	dec.off += n
	return v
}

// count reads an element count. Every element takes at least one byte, so
// a count above the bytes left is corrupt; this bounds allocations.
func (dec *decoder) count() int {
	v := dec.uvarint()
	if v > uint64(len(dec.b)-dec.off) {
		dec.fail("count " + itoa(v) + " exceeds remaining bytes")
		return 0
	}
	return int(v)
}

// small reads a uvarint that must not exceed max.
func (dec *decoder) small(max uint64, what string) uint64 {
	v := dec.uvarint()
	if v > max {
		dec.fail(what + " " + itoa(v) + " out of range")
		return 0
	}
	return v
}

func (dec *decoder) str() string {
	n := dec.uvarint()
	if dec.err != nil {
		return ""
	}
	if n > uint64(len(dec.b)-dec.off) {
		dec.fail("string length " + itoa(n) + " exceeds remaining bytes")
		return ""
	}
	s := string(dec.b[dec.off : dec.off+int(n)])
	dec.off += int(n)
	return s
}

func (dec *decoder) byte() byte {
	if dec.err != nil {
		return 0
	}
	if dec.off >= len(dec.b) {
		dec.fail("unexpected end of payload")
		return 0
	}
	c := dec.b[dec.off]
	dec.off++
	return c
}

func (dec *decoder) bool() bool {
	switch dec.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	dec.fail("bad boolean")
	return false
}

func (dec *decoder) time() time.Time { return time.Unix(0, dec.varint()).UTC() }

func (dec *decoder) duration() time.Duration { return time.Duration(dec.varint()) }

func (dec *decoder) policy(rp *RetentionPolicyInfo) {
	rp.Name = dec.str()
	rp.ReplicaN = int(dec.small(math.MaxInt32, "replication factor"))
	rp.Duration = dec.duration()
	rp.ShardGroupDuration = dec.duration()
	rp.FutureWriteLimit = dec.duration()
	rp.PastWriteLimit = dec.duration()
	if n := dec.count(); n > 0 {
		rp.ShardGroups = make([]ShardGroupInfo, n)
		for i := range rp.ShardGroups {
			g := &rp.ShardGroups[i]
			g.ID = dec.uvarint()
			g.StartTime = dec.time()
			g.EndTime = dec.time()
			flags := dec.byte()
			if flags&^sgKnown != 0 {
				dec.fail("unknown shard group flags")
			}
			if flags&sgDeleted != 0 {
				g.DeletedAt = dec.time()
			}
			if flags&sgTruncated != 0 {
				g.TruncatedAt = dec.time()
			}
			if n := dec.count(); n > 0 {
				g.Shards = make([]ShardInfo, n)
				for s := range g.Shards {
					g.Shards[s].ID = dec.uvarint()
					if n := dec.count(); n > 0 {
						g.Shards[s].Owners = make([]uint64, n)
						for o := range g.Shards[s].Owners {
							g.Shards[s].Owners[o] = dec.uvarint()
						}
					}
				}
			}
		}
	}
	if n := dec.count(); n > 0 {
		rp.Subscriptions = make([]SubscriptionInfo, n)
		for i := range rp.Subscriptions {
			s := &rp.Subscriptions[i]
			s.Name = dec.str()
			s.Mode = dec.str()
			if n := dec.count(); n > 0 {
				s.Destinations = make([]string, n)
				for k := range s.Destinations {
					s.Destinations[k] = dec.str()
				}
			}
		}
	}
}

func itoa(v uint64) string { return strconv.FormatUint(v, 10) }
