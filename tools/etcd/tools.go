//go:build tools

// Keeps `go mod tidy` from dropping the pinned requirement.
package tools

import _ "go.etcd.io/etcd/server/v3"
