package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/helm-flink/helm-flink/plugin/version"
)

func newVersionCmd(out io.Writer) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the plugin's version",
		Args:  args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validateOutput(output); err != nil {
				return err
			}
			info := version.Get()
			return write(out, output, info, func(w io.Writer) { fmt.Fprintln(w, info) })
		},
	}
	addOutputFlag(cmd, &output)
	return cmd
}
