// Command etcd is etcd's own server main. go.etcd.io/etcd/server/v3 has relative
// replace directives, so `go install` of it fails; a main of our own builds it.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
