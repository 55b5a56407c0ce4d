/**
 * Names, places and words that contain a blacklisted pattern but are innocent (the
 * Scunthorpe problem). obscenity's English dataset already avoids many through word
 * boundaries ("Scunthorpe", "Essex", "Sussex", "cocktail", "Hancock", "Clitheroe") or its
 * own whitelist ("shitake", "Dickens", "Uranus", "van dyke", "snigger", "Montenegro"); these
 * are the ones it still flags (a test checks that every entry is needed). Matched like
 * obscenity's whitelisted terms: lower case, anywhere in the text, spaces collapsed.
 */
export const defaultAllowList: readonly string[] = [
  // places
  "penistone",
  "penisarwaun",
  "twatt",
  "shitterton",
  "bitche",
  "cummington",
  "wankie",
  "rio negro",
  // people and characters
  "dick van dyke",
  "moby dick",
  "moby-dick",
  "philip k. dick",
  "dick turpin",
  "dick whittington",
  "dick cheney",
  "dick francis",
  "dickinson",
  "dickson",
  "cumming",
  // words
  "cockpit",
  "shiitake",
  "shitaki",
  "cum laude",
  "cumin",
  "cummerbund",
  "cumquat",
  "spotted dick",
  "pussycat",
  "pussy willow",
  "pussyfoot",
  "tit for tat",
  "blue tit",
  "great tit",
  "coal tit",
  "niggardly",
  "retardant",
  "retardation",
  "rapeseed",
  "wankel",
];
