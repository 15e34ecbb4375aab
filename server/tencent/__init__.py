"""Everything that talks to Tencent Cloud: SDK clients, the one call gateway, and upstream error mapping."""
