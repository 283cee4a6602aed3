package getopt_test

import (
	"fmt"

	"github.com/nsxproject/nsx/internal/getopt"
)

func Example() {
	p := &getopt.Parser{Options: []getopt.Option{
		{Short: 'a', Long: "all", Arg: getopt.NoArg},
		{Short: 't', Long: "target", Arg: getopt.RequiredArg},
		{Short: 'n', Long: "net", Arg: getopt.OptionalArg},
		{Short: 'w', Long: "wd", Arg: getopt.OptionalArg},
		{Short: 'W', Long: "wdns", Arg: getopt.RequiredArg},
	}}

	results, operands, err := p.Parse([]string{"-at", "42", "--ne=/run/netns/x", "-n", "ip", "-V"})
	for _, r := range results {
		fmt.Printf("--%s %q %v\n", r.Option.Long, r.Value, r.HasValue)
	}
	fmt.Printf("operands %q, err %v\n", operands, err)

	_, _, err = p.Parse([]string{"-a", "--w=/srv"})
	fmt.Println(err)
	// Output:
	// --all "" false
	// --target "42" true
	// --net "/run/netns/x" true
	// --net "" false
	// operands ["ip" "-V"], err <nil>
	// option '--w=/srv' is ambiguous; possibilities: '--wd' '--wdns'
}
