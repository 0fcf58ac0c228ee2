"""Key-ordered fetch, dispatch, exact offsets, rebalances and publishing on aiokafka; nothing about tickets."""
