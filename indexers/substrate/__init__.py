"""The Substrate reader (Bittensor): System.Events decoded per runtime spec version."""
