DROP TABLE users.nickname_reservations;
