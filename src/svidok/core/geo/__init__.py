"""Geography of Ukraine, offline: oblasts, raions, hromadas, settlements; names in any spelling."""
