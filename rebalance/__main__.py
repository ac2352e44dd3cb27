from rebalance.entry import main

main()
