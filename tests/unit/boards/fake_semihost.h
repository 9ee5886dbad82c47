/* Test controls of fake_semihost.c. */
#ifndef AP_TEST_FAKE_SEMIHOST_H
#define AP_TEST_FAKE_SEMIHOST_H

/* The next write stores only its first keep bytes and reports failure. */
void fake_semihost_fail_next_write(long keep);

/* Host files the code under test has open now. */
int fake_semihost_open_handles(void);

#endif /* AP_TEST_FAKE_SEMIHOST_H */
