//go:build tools

// Keeps `go mod tidy` from dropping the pinned requirement.
package tools

import _ "github.com/distribution/distribution/v3/cmd/registry"
