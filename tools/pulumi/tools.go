//go:build tools

// Keeps the pinned upstream main package in go.mod for `go mod tidy`.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
