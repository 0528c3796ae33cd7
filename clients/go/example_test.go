package owtclient_test

import (
	"fmt"
	"os"

	"owt.local/owtclient"
)

func Example() {
	url := os.Getenv("OWT_URL")
	if url == "" {
		url = "http://localhost:9876/owt"
	}
	owt := owtclient.NewClient(url, nil)

	answer, err := owt.Run("f(sota.hard_task)", "solve AGI")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(answer) // AGI solved!

	st, err := owt.Stream("def run():\n    return (f'data: {i}\\n\\n' for i in range(3)), {'Content-Type': 'text/event-stream'}\n", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	for st.Next() {
		fmt.Println(st.Data())
	}
	if err := st.Err(); err != nil {
		fmt.Println(err)
	}
}
