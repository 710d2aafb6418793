// Command external-secrets is upstream's main.go (the ESO controller, webhook
// and cert-controller) plus `--version`: upstream sets no version at link time,
// and the tool runner's check needs one. `--version` also reports whether the
// Vault provider is registered, which is the only provider the program uses.
package main

import (
	"fmt"
	"os"
	"runtime/debug"

	esv1 "github.com/external-secrets/external-secrets/apis/externalsecrets/v1"
	"github.com/external-secrets/external-secrets/cmd/controller"
)

const module = "github.com/external-secrets/external-secrets"

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		version := "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, d := range bi.Deps {
				if d.Path == module {
					version = d.Version
				}
			}
		}
		_, vault := esv1.GetProviderByName("vault")
		fmt.Printf("external-secrets %s (vault provider registered: %t)\n", version, vault)
		if !vault {
			os.Exit(1)
		}
		return
	}
	controller.Execute()
}
