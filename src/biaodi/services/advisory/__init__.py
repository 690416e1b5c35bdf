"""Smart advisory (智能投顾): a mix of grades within the investor's level and a loss budget."""
