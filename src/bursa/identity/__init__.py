"""Identity (Barong's part of OpenDAX): users, sessions, labels, KYC levels, activities."""
