"""The key store: each case's data key, wrapped under the master key, kept where a backup of the main
database does not reach when MEND_KEYSTORE_DATABASE_URL is set."""
