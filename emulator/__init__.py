"""An offline emulator of the Tencent Cloud CVM and VPC APIs (wire protocol, state, lifecycle, limits)."""
