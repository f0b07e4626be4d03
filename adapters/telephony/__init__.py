"""Phone systems behind the TelephonyAdapter port.

Each turns its vendor's events into normalized call signals and carries calldesk's
commands back.
"""
