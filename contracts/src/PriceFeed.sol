// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title PriceFeed: a Chainlink-style aggregator the owner feeds by hand.
/// @notice Emits the legacy AggregatorInterface event so the indexer reads it like a real feed.
contract PriceFeed {
    uint8 public constant decimals = 8;
    string public description;
    address public immutable owner;

    uint256 public latestRound;
    int256 public latestAnswer;
    uint256 public latestTimestamp;

    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    error NotOwner();

    constructor(string memory description_) {
        description = description_;
        owner = msg.sender;
    }

    function submit(int256 answer, uint256 updatedAt) external {
        if (msg.sender != owner) revert NotOwner();
        uint256 roundId = ++latestRound;
        latestAnswer = answer;
        latestTimestamp = updatedAt;
        emit AnswerUpdated(answer, roundId, updatedAt);
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        roundId = uint80(latestRound);
        return (roundId, latestAnswer, latestTimestamp, latestTimestamp, roundId);
    }
}
