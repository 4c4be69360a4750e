package subscriber

import (
	"fmt"
	"time"
)

// Defaults of [subscriber], as in 1.x, plus Strata's own bounds.
const (
	DefaultHTTPTimeout      = 30 * time.Second
	DefaultWriteConcurrency = 40
	DefaultWriteBufferSize  = 1000
	// DefaultWriteBufferBytes bounds the bytes queued for one destination
	// (Strata only: 1.x bounds the number of writes alone, which lets a
	// slow destination hold write-buffer-size whole request bodies).
	DefaultWriteBufferBytes = 64 << 20
	// DefaultUDPPayloadSize is the largest datagram payload Strata packs
	// lines into: small enough not to be fragmented on an Ethernet path.
	DefaultUDPPayloadSize = 1400
)

// Config is [subscriber].
type Config struct {
	Enabled bool
	// HTTPTimeout bounds one write to an HTTP destination.
	HTTPTimeout time.Duration
	// InsecureSkipVerify skips the verification of https destinations'
	// certificates.
	InsecureSkipVerify bool
	// CACerts is a PEM file of the CAs that https destinations' certificates
	// must chain to; "" uses the system's.
	CACerts string
	// WriteConcurrency is the number of writers per destination.
	WriteConcurrency int
	// WriteBufferSize is the number of writes queued per destination;
	// further writes are dropped (and counted) until the queue drains.
	WriteBufferSize int
	// WriteBufferBytes bounds the bytes queued per destination.
	WriteBufferBytes int64
	// UDPPayloadSize is the largest datagram sent to a udp:// destination.
	UDPPayloadSize int
}

// NewConfig returns the defaults: enabled, as in 1.x.
func NewConfig() Config {
	return Config{
		Enabled:          true,
		HTTPTimeout:      DefaultHTTPTimeout,
		WriteConcurrency: DefaultWriteConcurrency,
		WriteBufferSize:  DefaultWriteBufferSize,
		WriteBufferBytes: DefaultWriteBufferBytes,
		UDPPayloadSize:   DefaultUDPPayloadSize,
	}
}

// withDefaults fills the zero fields in.
func (c Config) withDefaults() Config {
	d := NewConfig()
	if c.HTTPTimeout == 0 {
		c.HTTPTimeout = d.HTTPTimeout
	}
	if c.WriteConcurrency == 0 {
		c.WriteConcurrency = d.WriteConcurrency
	}
	if c.WriteBufferSize == 0 {
		c.WriteBufferSize = d.WriteBufferSize
	}
	if c.WriteBufferBytes == 0 {
		c.WriteBufferBytes = d.WriteBufferBytes
	}
	if c.UDPPayloadSize == 0 {
		c.UDPPayloadSize = d.UDPPayloadSize
	}
	return c
}

// Validate reports a setting that cannot work (zero values take the
// defaults).
func (c Config) Validate() error {
	switch {
	case c.HTTPTimeout < 0:
		return fmt.Errorf("%w: http-timeout must be greater than 0", ErrInvalidConfig)
	case c.WriteConcurrency < 0:
		return fmt.Errorf("%w: write-concurrency must be greater than 0", ErrInvalidConfig)
	case c.WriteBufferSize < 0:
		return fmt.Errorf("%w: write-buffer-size must be greater than 0", ErrInvalidConfig)
	case c.WriteBufferBytes < 0:
		return fmt.Errorf("%w: write-buffer-bytes must be greater than 0", ErrInvalidConfig)
	case c.UDPPayloadSize < 0 || c.UDPPayloadSize > maxDatagram:
		return fmt.Errorf("%w: udp-payload-size must be in (0, %d]", ErrInvalidConfig, maxDatagram)
	}
	return nil
}

// Diagnostics returns the config-subscriber section of SHOW DIAGNOSTICS,
// with 1.x's keys.
func (c Config) Diagnostics() map[string]any {
	if !c.Enabled {
		return map[string]any{"enabled": false}
	}
	c = c.withDefaults()
	return map[string]any{
		"enabled":           true,
		"http-timeout":      c.HTTPTimeout.String(),
		"write-concurrency": int64(c.WriteConcurrency),
		"write-buffer-size": int64(c.WriteBufferSize),
	}
}
