"""domain-classifier: sort marketplace listings into product domains from their titles."""
