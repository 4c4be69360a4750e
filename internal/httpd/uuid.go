package httpd

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"time"
)

// uuidGenerator makes the version 1 (time-based) UUIDs 1.x uses as request
// ids: a 60-bit count of 100 ns intervals since 1582-10-15, a 14-bit clock
// sequence bumped whenever the clock does not move forward, and a random
// 48-bit node id with the multicast bit set (RFC 4122 §4.5: not a MAC).
type uuidGenerator struct {
	now  func() time.Time
	node [6]byte

	mu      sync.Mutex // guards last and seq
	last    uint64
	clockSq uint16
}

// gregorianOffset is the number of 100 ns intervals between the UUID epoch
// (1582-10-15) and the Unix epoch.
const gregorianOffset = 0x01B21DD213814000

func newUUIDGenerator(now func() time.Time) *uuidGenerator {
	g := &uuidGenerator{now: now}
	var seed [8]byte
	_, _ = rand.Read(g.node[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	_, _ = rand.Read(seed[:])
	g.node[0] |= 0x01
	g.clockSq = binary.BigEndian.Uint16(seed[:2]) & 0x3fff
	return g
}

// next returns a new UUID in its 36-character text form.
func (g *uuidGenerator) next() string {
	ts := uint64(g.now().UnixNano()/100) + gregorianOffset
	g.mu.Lock()
	if ts <= g.last {
		g.clockSq = (g.clockSq + 1) & 0x3fff
	}
	g.last = ts
	seq := g.clockSq
	g.mu.Unlock()

	var u [16]byte
	binary.BigEndian.PutUint32(u[0:4], uint32(ts))           // time_low
	binary.BigEndian.PutUint16(u[4:6], uint16(ts>>32))       // time_mid
	binary.BigEndian.PutUint16(u[6:8], uint16(ts>>48)|1<<12) // time_hi and version 1
	binary.BigEndian.PutUint16(u[8:10], seq|0x8000)          // clock_seq and RFC 4122 variant
	copy(u[10:], g.node[:])

	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:], u[10:])
	return string(out[:])
}
