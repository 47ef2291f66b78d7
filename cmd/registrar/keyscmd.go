package main

import (
	"context"
	"net/http"

	"github.com/spf13/cobra"
)

// keysCmd is registrar keys: a tenant's access token signing keys.
func keysCmd(e env) *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{Use: "keys", Short: "List and rotate a tenant's access token signing keys", Args: cobra.NoArgs}
	addAdminFlags(cmd, o, e, true)
	list := &cobra.Command{
		Use: "list", Short: "List a tenant's published signing keys: next, active, retired (GET …/keys)", Args: cobra.NoArgs,
		RunE: runE(o, true, func(ctx context.Context, _ []string) error {
			return o.print(ctx, request{method: http.MethodGet, path: o.tenantPath("keys")})
		}),
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate a tenant's signing keys: next becomes active, active retires (POST …/keys/rotate)",
		Long: `Rotates the tenant's signing keys: the active key retires (it stays published
until every token it signed has expired), the next key, published since the
last rotation, becomes active, and a new next key is published. Refused while
the next key has been published for less than the publication lead (10
minutes), so that resource servers have it before it signs.`,
		Args: cobra.NoArgs,
		RunE: runE(o, true, func(ctx context.Context, _ []string) error {
			return o.print(ctx, request{method: http.MethodPost, path: o.tenantPath("keys", "rotate")})
		}),
	}
	cmd.AddCommand(list, rotate)
	return cmd
}
