package tsm

// Layout constants for the black-box tests that damage files on purpose.
const (
	HeaderSize = headerSize
	FooterSize = footerSize
)
