from rebalance.cli import main

main()
