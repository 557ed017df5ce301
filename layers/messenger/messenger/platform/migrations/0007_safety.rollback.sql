DROP TABLE friends.blocks;
